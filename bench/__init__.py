"""`make bench`: Parlor's gateway overhead, throughput, streaming, memory and page speed."""
