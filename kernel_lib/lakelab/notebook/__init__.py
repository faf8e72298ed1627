"""What runs only in a notebook: magics, HTML display, dataset cards."""
