"""The programmes app's pages, a module per page group: programmes and classes."""
