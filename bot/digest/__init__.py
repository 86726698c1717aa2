"""The weekly digest for coordinators and the personal one for each supporter."""
