"""Testing provision for SQLAlchemy's test plugin, which imports
``<dialect package>.provision`` for a dialect it runs tests against.

aiolibsql's dialects are SQLite ones, so SQLite's own provision applies (it
ATTACHes the ``test_schema`` database, cleans up files, and so on); importing
it registers its hooks. Nothing else imports this module.
"""

from sqlalchemy.dialects.sqlite import provision  # noqa: F401 - registers SQLite's hooks
