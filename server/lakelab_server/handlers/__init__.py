"""REST handlers of the lakelab server extension, one module per resource."""
