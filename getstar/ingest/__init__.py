"""Loading catalogues into snapshots: readers (one module per source), the raw store,
the cross-identifying build and the atomic swap."""
