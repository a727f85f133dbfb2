"""Model-file formats: detection by magic bytes and one reader per format; none executes content."""
