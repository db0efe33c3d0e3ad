# One way to declare a GoogleTest executable: every test target in the project uses it.
#   djproxy_add_gtest(NAME SOURCES a.cpp b.cpp LIBS lib... [LABEL unit|integration]
#                     [PROPERTIES prop value ...])
# Tests are discovered when ctest runs (PRE_TEST), not at build time, so a sanitizer
# build does not run every test binary while it builds.
include(GoogleTest)
function(djproxy_add_gtest name)
  cmake_parse_arguments(T "" "LABEL" "SOURCES;LIBS;PROPERTIES" ${ARGN})
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main djproxy_warnings)
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${T_LABEL}" ${T_PROPERTIES})
endfunction()
