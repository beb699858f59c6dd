"""What SQLite can do, for SQLAlchemy's dialect compliance suite.

The answers follow the ones SQLAlchemy's own test requirements give for
SQLite, so the suite runs the same tests for ``sqlite+aiolibsql``,
``sqlite+aiolibsql_async`` and the built-in ``sqlite+pysqlite`` and
``sqlite+aiosqlite`` it is compared with (see docs/sqlalchemy-compliance.md).
Answers that depend on the driver say so, with the reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.testing import exclusions
from sqlalchemy.testing.exclusions import against, fails_on, only_if, skip_if
from sqlalchemy.testing.requirements import SuiteRequirements

OPEN = exclusions.open
CLOSED = exclusions.closed


def _file_db(config: Any) -> bool:
    return bool(config.db.dialect._is_url_file_db(config.db.url))


def _memory_db(config: Any) -> bool:
    return not _file_db(config)


def _driver_emits_begin(config: Any) -> bool:
    # aiolibsql's dialects emit BEGIN when SQLAlchemy begins a transaction,
    # so a SAVEPOINT lands inside it. sqlite3 and aiosqlite leave BEGIN to
    # the driver, which skips it before SAVEPOINT: SQLAlchemy's requirements
    # rule savepoints out for them.
    return config.db.dialect.driver == "aiolibsql"


def _has_json1(config: Any) -> bool:
    with config.db.connect() as connection:
        return connection.exec_driver_sql("""SELECT json_extract('{"a": "b"}', '$.a')""").scalar() == "b"


class Requirements(SuiteRequirements):
    # -- DDL and constraints -------------------------------------------------

    @property
    def named_constraints(self) -> exclusions.compound:
        return OPEN()

    @property
    def implicitly_named_constraints(self) -> exclusions.compound:
        return CLOSED()  # SQLite does not name constraints it creates

    @property
    def table_ddl_if_exists(self) -> exclusions.compound:
        return OPEN()

    @property
    def index_ddl_if_exists(self) -> exclusions.compound:
        return OPEN()

    @property
    def create_table_as(self) -> exclusions.compound:
        return OPEN()

    @property
    def create_temp_table_as(self) -> exclusions.compound:
        return OPEN()

    @property
    def schemas(self) -> exclusions.compound:
        # The suite ATTACHes a second file as test_schema.
        return OPEN()

    @property
    def schema_create_delete(self) -> exclusions.compound:
        return CLOSED()

    @property
    def views(self) -> exclusions.compound:
        return OPEN()

    @property
    def create_or_replace_view(self) -> exclusions.compound:
        return CLOSED()

    @property
    def materialized_views(self) -> exclusions.compound:
        return CLOSED()

    @property
    def materialized_views_reflect_pk(self) -> exclusions.compound:
        return CLOSED()

    @property
    def temporary_tables(self) -> exclusions.compound:
        return skip_if(_file_db, "temporary tables are tested on :memory: databases")

    @property
    def temp_table_reflection(self) -> exclusions.compound:
        return self.temporary_tables

    @property
    def temp_table_reflect_indexes(self) -> exclusions.compound:
        return self.temporary_tables

    @property
    def temp_table_names(self) -> exclusions.compound:
        return self.temporary_tables

    @property
    def has_temp_table(self) -> exclusions.compound:
        return self.temporary_tables

    @property
    def temporary_views(self) -> exclusions.compound:
        return self.temporary_tables

    @property
    def temp_table_comment_reflection(self) -> exclusions.compound:
        return CLOSED()

    @property
    def computed_columns(self) -> exclusions.compound:
        return only_if(lambda config: against(config, "sqlite >= 3.31"), "generated columns need SQLite 3.31")

    @property
    def computed_columns_stored(self) -> exclusions.compound:
        return self.computed_columns

    @property
    def computed_columns_virtual(self) -> exclusions.compound:
        return self.computed_columns

    @property
    def computed_columns_default_persisted(self) -> exclusions.compound:
        return CLOSED()

    @property
    def computed_columns_reflect_persisted(self) -> exclusions.compound:
        return self.computed_columns

    @property
    def identity_columns(self) -> exclusions.compound:
        return CLOSED()

    @property
    def identity_columns_standard(self) -> exclusions.compound:
        return CLOSED()

    @property
    def indexes_with_expressions(self) -> exclusions.compound:
        return OPEN()

    @property
    def indexes_check_column_order(self) -> exclusions.compound:
        return OPEN()

    @property
    def server_defaults(self) -> exclusions.compound:
        return OPEN()

    @property
    def expression_server_defaults(self) -> exclusions.compound:
        return OPEN()

    @property
    def unbounded_varchar(self) -> exclusions.compound:
        return OPEN()

    @property
    def nvarchar_types(self) -> exclusions.compound:
        return OPEN()

    @property
    def uuid_data_type(self) -> exclusions.compound:
        return CLOSED()

    @property
    def array_type(self) -> exclusions.compound:
        return CLOSED()

    @property
    def unicode_ddl(self) -> exclusions.compound:
        return OPEN()

    @property
    def unusual_column_name_characters(self) -> exclusions.compound:
        return OPEN()

    @property
    def symbol_names_w_double_quote(self) -> exclusions.compound:
        return OPEN()

    # -- reflection ----------------------------------------------------------

    @property
    def repeated_column_foreign_keys(self) -> exclusions.compound:
        return OPEN()

    @property
    def foreign_keys_reflect_as_index(self) -> exclusions.compound:
        return CLOSED()

    @property
    def unique_index_reflect_as_unique_constraints(self) -> exclusions.compound:
        return CLOSED()

    @property
    def unique_constraints_reflect_as_index(self) -> exclusions.compound:
        return CLOSED()

    @property
    def foreign_key_constraint_name_reflection(self) -> exclusions.compound:
        return OPEN()

    @property
    def foreign_key_constraint_option_reflection_ondelete(self) -> exclusions.compound:
        return OPEN()

    @property
    def fk_constraint_option_reflection_ondelete_restrict(self) -> exclusions.compound:
        return OPEN()

    @property
    def fk_constraint_option_reflection_ondelete_noaction(self) -> exclusions.compound:
        return OPEN()

    @property
    def foreign_key_constraint_option_reflection_onupdate(self) -> exclusions.compound:
        return OPEN()

    @property
    def fk_constraint_option_reflection_onupdate_restrict(self) -> exclusions.compound:
        return OPEN()

    @property
    def cross_schema_fk_reflection(self) -> exclusions.compound:
        return CLOSED()

    @property
    def unique_constraint_reflection(self) -> exclusions.compound:
        return OPEN()

    @property
    def inline_check_constraint_reflection(self) -> exclusions.compound:
        return OPEN()

    @property
    def check_constraint_reflection(self) -> exclusions.compound:
        return OPEN()

    @property
    def reflects_pk_names(self) -> exclusions.compound:
        return OPEN()

    @property
    def reflect_indexes_with_expressions(self) -> exclusions.compound:
        return CLOSED()

    @property
    def reflect_indexes_with_ascdesc_as_expression(self) -> exclusions.compound:
        return CLOSED()

    @property
    def reflect_tables_no_columns(self) -> exclusions.compound:
        return CLOSED()

    @property
    def reflect_table_options(self) -> exclusions.compound:
        # SQLAlchemy 2.1's SQLite dialect reflects WITHOUT ROWID and STRICT.
        return OPEN()

    @property
    def comment_reflection(self) -> exclusions.compound:
        return CLOSED()

    @property
    def comment_reflection_full_unicode(self) -> exclusions.compound:
        return CLOSED()

    @property
    def constraint_comment_reflection(self) -> exclusions.compound:
        return CLOSED()

    @property
    def column_collation_reflection(self) -> exclusions.compound:
        return CLOSED()

    @property
    def index_reflects_included_columns(self) -> exclusions.compound:
        return CLOSED()

    @property
    def default_schema_name_switch(self) -> exclusions.compound:
        return CLOSED()

    # -- transactions and connections ----------------------------------------

    @property
    def isolation_level(self) -> exclusions.compound:
        return OPEN()

    @property
    def autocommit(self) -> exclusions.compound:
        return self.isolation_level + only_if(
            lambda config: "AUTOCOMMIT" in self.get_isolation_levels(config)["supported"]
        )

    @property
    def savepoints(self) -> exclusions.compound:
        return only_if(_driver_emits_begin, "the driver does not BEGIN before SAVEPOINT")

    @property
    def skip_autocommit_rollback(self) -> exclusions.compound:
        return OPEN()

    @property
    def independent_connections(self) -> exclusions.compound:
        # Writers on one file lock each other out: SQLAlchemy runs no sqlite
        # driver through these tests.
        return CLOSED()

    @property
    def independent_readonly_connections(self) -> exclusions.compound:
        return skip_if(_memory_db, "a :memory: database is private to one connection") + skip_if(
            lambda config: against(config, "+aiosqlite"), "SQLAlchemy's own requirements skip aiosqlite here"
        )

    @property
    def dbapi_lastrowid(self) -> exclusions.compound:
        return OPEN()

    @property
    def duplicate_key_raises_integrity_error(self) -> exclusions.compound:
        return OPEN()

    # -- SQL -----------------------------------------------------------------

    @property
    def ctes(self) -> exclusions.compound:
        return OPEN()

    @property
    def ctes_with_values(self) -> exclusions.compound:
        return OPEN()

    @property
    def ctes_with_update_delete(self) -> exclusions.compound:
        return CLOSED()

    @property
    def ctes_on_dml(self) -> exclusions.compound:
        return CLOSED()

    @property
    def tuple_in(self) -> exclusions.compound:
        return only_if(lambda config: against(config, "sqlite >= 3.15"), "row values need SQLite 3.15")

    @property
    def tuple_in_w_empty(self) -> exclusions.compound:
        return self.tuple_in

    @property
    def update_from(self) -> exclusions.compound:
        return only_if(lambda config: against(config, "sqlite >= 3.33"), "UPDATE ... FROM needs SQLite 3.33")

    @property
    def window_functions(self) -> exclusions.compound:
        return only_if(lambda config: against(config, "sqlite >= 3.25"), "window functions need SQLite 3.25")

    @property
    def window_range(self) -> exclusions.compound:
        return OPEN()

    @property
    def window_range_numeric(self) -> exclusions.compound:
        return OPEN()

    @property
    def window_range_non_numeric(self) -> exclusions.compound:
        return CLOSED()

    @property
    def order_by_col_from_union(self) -> exclusions.compound:
        return OPEN()

    @property
    def parens_in_union_contained_select_w_limit_offset(self) -> exclusions.compound:
        return fails_on("sqlite", "SQLite does not accept parenthesized SELECTs in a UNION")

    @property
    def parens_in_union_contained_select_wo_limit_offset(self) -> exclusions.compound:
        return fails_on("sqlite", "SQLite does not accept parenthesized SELECTs in a UNION")

    @property
    def sql_expression_limit_offset(self) -> exclusions.compound:
        return self.offset

    @property
    def fetch_first(self) -> exclusions.compound:
        return CLOSED()

    @property
    def fetch_percent(self) -> exclusions.compound:
        return CLOSED()

    @property
    def fetch_ties(self) -> exclusions.compound:
        return CLOSED()

    @property
    def fetch_no_order_by(self) -> exclusions.compound:
        return CLOSED()

    @property
    def fetch_offset_with_options(self) -> exclusions.compound:
        return OPEN()

    @property
    def fetch_expression(self) -> exclusions.compound:
        return OPEN()

    @property
    def supports_distinct_on(self) -> exclusions.compound:
        return CLOSED()

    @property
    def table_value_constructor(self) -> exclusions.compound:
        return CLOSED()

    @property
    def regexp_match(self) -> exclusions.compound:
        return OPEN()

    @property
    def regexp_replace(self) -> exclusions.compound:
        return CLOSED()

    @property
    def supports_bitwise_and(self) -> exclusions.compound:
        return OPEN()

    @property
    def supports_bitwise_or(self) -> exclusions.compound:
        return OPEN()

    @property
    def supports_bitwise_not(self) -> exclusions.compound:
        return OPEN()

    @property
    def supports_bitwise_xor(self) -> exclusions.compound:
        return OPEN()

    @property
    def supports_bitwise_shift(self) -> exclusions.compound:
        return OPEN()

    @property
    def empty_inserts_executemany(self) -> exclusions.compound:
        return self.empty_inserts

    @property
    def expressions_against_unbounded_text(self) -> exclusions.compound:
        return OPEN()

    @property
    def binary_literals(self) -> exclusions.compound:
        return OPEN()

    @property
    def percent_schema_names(self) -> exclusions.compound:
        return OPEN()

    def get_order_by_collation(self, config: Any) -> str:
        return "NOCASE"

    # -- types ---------------------------------------------------------------

    @property
    def empty_strings_varchar(self) -> exclusions.compound:
        return OPEN()

    @property
    def empty_strings_text(self) -> exclusions.compound:
        return OPEN()

    @property
    def unicode_data_no_special_types(self) -> exclusions.compound:
        return OPEN()

    @property
    def date(self) -> exclusions.compound:
        return OPEN()

    @property
    def date_historic(self) -> exclusions.compound:
        return OPEN()

    @property
    def datetime(self) -> exclusions.compound:
        return OPEN()

    @property
    def datetime_historic(self) -> exclusions.compound:
        return OPEN()

    @property
    def datetime_microseconds(self) -> exclusions.compound:
        return OPEN()

    @property
    def time(self) -> exclusions.compound:
        return OPEN()

    @property
    def time_microseconds(self) -> exclusions.compound:
        return OPEN()

    @property
    def datetime_interval(self) -> exclusions.compound:
        return CLOSED()

    @property
    def datetime_timezone(self) -> exclusions.compound:
        return CLOSED()

    @property
    def time_timezone(self) -> exclusions.compound:
        return CLOSED()

    @property
    def datetime_literals(self) -> exclusions.compound:
        return OPEN()

    @property
    def date_implicit_bound(self) -> exclusions.compound:
        return OPEN()

    @property
    def time_implicit_bound(self) -> exclusions.compound:
        return OPEN()

    @property
    def datetime_implicit_bound(self) -> exclusions.compound:
        return OPEN()

    @property
    def timestamp_microseconds(self) -> exclusions.compound:
        return CLOSED()

    @property
    def timestamp_microseconds_implicit_bound(self) -> exclusions.compound:
        return self.timestamp_microseconds

    @property
    def precision_numerics_general(self) -> exclusions.compound:
        return OPEN()

    @property
    def precision_numerics_many_significant_digits(self) -> exclusions.compound:
        return fails_on("sqlite", "SQLite stores numerics as 64-bit floats")

    @property
    def cast_precision_numerics_many_significant_digits(self) -> exclusions.compound:
        return self.precision_numerics_many_significant_digits

    @property
    def precision_numerics_retains_significant_digits(self) -> exclusions.compound:
        return OPEN()

    @property
    def literal_float_coercion(self) -> exclusions.compound:
        return OPEN()

    @property
    def infinity_floats(self) -> exclusions.compound:
        return OPEN()

    @property
    def float_or_double_precision_behaves_generically(self) -> exclusions.compound:
        return OPEN()

    @property
    def precision_generic_float_type(self) -> exclusions.compound:
        return OPEN()

    @property
    def implicit_decimal_binds(self) -> exclusions.compound:
        return OPEN()

    @property
    def fetch_null_from_numeric(self) -> exclusions.compound:
        return OPEN()

    @property
    def json_type(self) -> exclusions.compound:
        return only_if(_has_json1, "the engine has no JSON1 functions")

    @property
    def json_array_indexes(self) -> exclusions.compound:
        return self.json_type

    @property
    def json_index_supplementary_unicode_element(self) -> exclusions.compound:
        # SQLite's json functions mishandle characters outside the BMP in keys.
        return CLOSED()

    @property
    def legacy_unconditional_json_extract(self) -> exclusions.compound:
        return self.json_type

    @property
    def json_deserializer_binary(self) -> exclusions.compound:
        return CLOSED()
