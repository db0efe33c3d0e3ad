# Benchmark clients used by bench/run.sh. Included from bench/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/clients.cmake)
add_executable(djproxy_bench_client ${CMAKE_CURRENT_LIST_DIR}/bench_client.cpp)
target_link_libraries(djproxy_bench_client PRIVATE PkgConfig::MARIADB djproxy_warnings)
