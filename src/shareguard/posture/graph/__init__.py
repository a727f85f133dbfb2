"""Cross-resource ("graph") rules: a resource judged by the resources it refers to."""
