"""Load benchmark of this service against the anchors: `make bench`, see bench/README.md."""
