"""The bookings app's pages, a module per page group: families, the CSV import, invitations
(accepted under /accounts/), sessions and attendance, classes and enrolments."""
