"""Storage of the warehouse: immutable Parquet files grouped into atomic, versioned
snapshots. Readers get Arrow datasets; engines never open warehouse files themselves."""
