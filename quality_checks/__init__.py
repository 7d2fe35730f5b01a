"""Great Expectations suites as code, and the Dagster asset checks that run them."""
