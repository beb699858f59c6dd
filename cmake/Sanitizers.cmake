# Sanitized builds (make sanitize): the core, the extension module (with
# nanobind) and the GoogleTest suite are instrumented; the libSQL engine is not
# compiled here but linked from the plain build (AIOLIBSQL_ENGINE_FROM_BUILD),
# so the amalgamation is compiled once. Included after the engine so that a
# build that does compile the engine leaves it uninstrumented too.
#
# Every report is fatal: a sanitized run either passes clean or fails.

set(AIOLIBSQL_SANITIZE "" CACHE STRING "Sanitizers to build with, as -fsanitize= takes them (address,undefined or thread)")
if(AIOLIBSQL_SANITIZE)
  message(STATUS "Sanitizers: ${AIOLIBSQL_SANITIZE}")
  add_compile_options(-fsanitize=${AIOLIBSQL_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${AIOLIBSQL_SANITIZE})
endif()
