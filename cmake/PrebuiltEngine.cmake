# The libSQL engine as another build directory of this project compiled it.
# Builds of the extension for further interpreters (make test-pythons) link
# that one copy instead of compiling the amalgamation again: the engine does
# not depend on the interpreter.

set(engine_library "${AIOLIBSQL_ENGINE_FROM_BUILD}/liblibsql_engine.a")
set(engine_headers "${AIOLIBSQL_ENGINE_FROM_BUILD}/libsql-engine-src")
if(NOT EXISTS "${engine_library}" OR NOT EXISTS "${engine_headers}/sqlite3.h")
  message(FATAL_ERROR "${AIOLIBSQL_ENGINE_FROM_BUILD} holds no built libSQL engine: build it there first")
endif()

add_library(libsql_engine STATIC IMPORTED)
set_target_properties(libsql_engine PROPERTIES
  IMPORTED_LOCATION "${engine_library}"
  INTERFACE_INCLUDE_DIRECTORIES "${engine_headers}")
find_package(Threads REQUIRED)
target_link_libraries(libsql_engine INTERFACE Threads::Threads ${CMAKE_DL_LIBS} m)
