"""Reading sources: files, URLs and in-kernel objects as Arrow record-batch streams."""
