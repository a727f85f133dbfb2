"""ML code checks: AST rules over Python sources and notebooks, and dependency pins."""
