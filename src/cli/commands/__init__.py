"""One module per noun; each command parses its arguments, makes one API call and prints the result."""
