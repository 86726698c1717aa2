"""The directory of people: CSV import and export (`service`), uploaded files (`files`), and
who is who (`people`).
"""
