# The libSQL engine: libSQL's own C amalgamation wrapped by SQLite3 Multiple
# Ciphers, exactly as the libsql-ffi crate builds it with its
# `multiple-ciphers` feature. The sources come from the pinned crate; they are
# fetched by cargo at configure time and never committed.
#
# Offline builds: set AIOLIBSQL_LIBSQL_FFI_DIR (environment or cache variable)
# to an unpacked libsql-ffi-<version> directory.

set(AIOLIBSQL_LIBSQL_FFI_VERSION "0.10.0")

function(aiolibsql_locate_libsql_ffi out_dir)
  if(DEFINED ENV{AIOLIBSQL_LIBSQL_FFI_DIR} AND NOT AIOLIBSQL_LIBSQL_FFI_DIR)
    set(AIOLIBSQL_LIBSQL_FFI_DIR "$ENV{AIOLIBSQL_LIBSQL_FFI_DIR}")
  endif()
  if(AIOLIBSQL_LIBSQL_FFI_DIR)
    set(${out_dir} "${AIOLIBSQL_LIBSQL_FFI_DIR}" PARENT_SCOPE)
    return()
  endif()

  find_program(CARGO cargo HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)
  # Work on a copy of the manifest so the lock file cargo writes stays out of
  # the source tree.
  set(manifest_dir "${CMAKE_BINARY_DIR}/libsql-ffi-fetch")
  file(COPY "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/libsql-ffi/Cargo.toml"
            "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/libsql-ffi/lib.rs"
       DESTINATION "${manifest_dir}")
  execute_process(
    COMMAND "${CARGO}" metadata --format-version 1 --manifest-path "${manifest_dir}/Cargo.toml"
    OUTPUT_VARIABLE metadata
    ERROR_VARIABLE cargo_errors
    RESULT_VARIABLE cargo_status)
  if(NOT cargo_status EQUAL 0)
    message(FATAL_ERROR "cargo could not fetch libsql-ffi ${AIOLIBSQL_LIBSQL_FFI_VERSION}:\n${cargo_errors}\n"
                        "Set AIOLIBSQL_LIBSQL_FFI_DIR to an unpacked copy to build offline.")
  endif()
  string(JSON package_count LENGTH "${metadata}" packages)
  math(EXPR last "${package_count} - 1")
  foreach(i RANGE ${last})
    string(JSON name GET "${metadata}" packages ${i} name)
    if(name STREQUAL "libsql-ffi")
      string(JSON manifest GET "${metadata}" packages ${i} manifest_path)
      get_filename_component(crate_dir "${manifest}" DIRECTORY)
      set(${out_dir} "${crate_dir}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "cargo metadata did not list libsql-ffi")
endfunction()

aiolibsql_locate_libsql_ffi(libsql_ffi_dir)
set(libsql_amalgamation "${libsql_ffi_dir}/bundled/src/sqlite3.c")
set(multiple_ciphers_src "${libsql_ffi_dir}/bundled/SQLite3MultipleCiphers/src")
if(NOT EXISTS "${libsql_amalgamation}" OR NOT EXISTS "${multiple_ciphers_src}/sqlite3mc.c")
  message(FATAL_ERROR "${libsql_ffi_dir} does not look like libsql-ffi ${AIOLIBSQL_LIBSQL_FFI_VERSION} sources")
endif()
message(STATUS "libSQL engine sources: ${libsql_ffi_dir}")

# sqlite3mc.c #includes "sqlite3.c" from its own directory; libsql-ffi replaces
# that file with libSQL's amalgamation, and so do we, in the build tree.
set(engine_src "${CMAKE_BINARY_DIR}/libsql-engine-src")
file(COPY "${multiple_ciphers_src}/" DESTINATION "${engine_src}")
configure_file("${libsql_amalgamation}" "${engine_src}/sqlite3.c" COPYONLY)
configure_file("${libsql_ffi_dir}/bundled/src/sqlite3.h" "${engine_src}/sqlite3.h" COPYONLY)

add_library(libsql_engine STATIC "${engine_src}/sqlite3mc.c")
set_target_properties(libsql_engine PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
target_include_directories(libsql_engine SYSTEM PUBLIC "${engine_src}")
target_compile_options(libsql_engine PRIVATE -w $<$<STREQUAL:${CMAKE_SYSTEM_PROCESSOR},x86_64>:-msse4.2 -maes>)
# The compile options libsql-ffi passes to SQLite3 Multiple Ciphers' own
# CMake project (CODEC_TYPE=AES256, secure delete and user authentication off,
# column metadata and URIs on), expanded to the definitions that project sets.
target_compile_definitions(libsql_engine
  PRIVATE
    _LIB
    CODEC_TYPE=CODEC_TYPE_AES256
    SQLITE_DQS=0
    SQLITE_MAX_ATTACHED=10
    SQLITE_THREADSAFE=1
    SQLITE_SOUNDEX=1
    SQLITE_ENABLE_COLUMN_METADATA=1
    SQLITE_ENABLE_FTS3=1
    SQLITE_ENABLE_FTS3_PARENTHESIS=1
    SQLITE_ENABLE_FTS4=1
    SQLITE_ENABLE_FTS5=1
    SQLITE_ENABLE_JSON1=1
    SQLITE_ENABLE_RTREE=1
    SQLITE_ENABLE_GEOPOLY=1
    SQLITE_ENABLE_EXTFUNC=1
    SQLITE_ENABLE_CARRAY=1
    SQLITE_ENABLE_UUID=1
    SQLITE_TEMP_STORE=2
    SQLITE_USE_URI=1
    LIBSQL_EXTRA_PRAGMAS=1
    LIBSQL_CUSTOM_PAGER_CODEC=1
    LIBSQL_ENCRYPTION=1
    SQLITE_ENABLE_DBSTAT_VTAB=1
    SQLITE_ENABLE_DBPAGE_VTAB=1
    SQLITE_ENABLE_STMTVTAB=1
    SQLITE_DEFAULT_FOREIGN_KEYS=1
    # libsql-ffi compiles only AES-256-CBC, its default scheme. The other
    # schemes are added so files encrypted elsewhere open too (SQLCipher 4;
    # SQLite3 Multiple Ciphers' own ChaCha20, AES-128, RC4, Ascon);
    # AES-256-CBC stays the default and its format is unchanged.
    HAVE_CIPHER_AES_128_CBC=1
    HAVE_CIPHER_AES_256_CBC=1
    HAVE_CIPHER_CHACHA20=1
    HAVE_CIPHER_SQLCIPHER=1
    HAVE_CIPHER_RC4=1
    HAVE_CIPHER_ASCON128=1
    SQLITE_ENABLE_FILEIO=1
    SQLITE_ENABLE_REGEXP=1
    SQLITE_ENABLE_SERIES=1
    SQLITE_ENABLE_SHA3=1
    # libsql-ffi's plain build adds these; they cost nothing here.
    SQLITE_ENABLE_LOAD_EXTENSION=1
    SQLITE_ENABLE_STAT4=1
    HAVE_USLEEP=1
)
find_package(Threads REQUIRED)
target_link_libraries(libsql_engine PUBLIC Threads::Threads ${CMAKE_DL_LIBS} m)
