"""One parser per configuration format; each yields normalised `PostureResource`s with line numbers."""
