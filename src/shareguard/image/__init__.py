"""Image and root-filesystem inventory: OS, packages, ML stack; identity of the image."""
