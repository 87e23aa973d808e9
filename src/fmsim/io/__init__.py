"""Reading and writing results: tidy tables as Parquet and CSV."""
