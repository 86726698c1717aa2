"""The supply-and-demand report and its charts."""
