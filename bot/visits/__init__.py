"""Open classrooms: people in the directory ask to visit a school and observe practice; a
school that hosts visits accepts, picks a day within its half-term capacity, and both are
reminded the working day before and asked afterwards whether it was useful."""
