"""The programmes app's pages, a module per page group: programmes, classes, closures."""
