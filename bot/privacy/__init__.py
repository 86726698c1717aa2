"""Privacy: exporting and erasing a person's data (`service`) and retention (`retention`)."""
