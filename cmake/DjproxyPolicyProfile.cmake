# Profile-guided optimisation of the policy (GCC's -fprofile-generate / -fprofile-use).
#
# The analysis is a long chain of small branches per token, and its profile is flat: no
# single function is worth tuning by hand. Laid out for the branches that workers'
# statements take, the same code runs about a quarter faster (bench/RESULTS.md). The
# source is unchanged; so is what the policy decides, which the test suite checks on this
# build and, without the profile, on the sanitizer build.
#
# The policy's sources are compiled a second time with counters into
# djproxy_policy_training (bench/training/policy_training.cpp), which reads DataJoint's traces
# (tests/policy/data) and sysbench's statements. Its counts (.gcda files, one per object)
# are copied next to djproxy_policy's objects, where -fprofile-use looks for them, and
# every policy object depends on them: a change to the policy trains again, then
# compiles the policy again.
#
#   djproxy_profile_policy(TARGET SOURCE...)
function(djproxy_profile_policy target)
  set(sources ${ARGN})
  set(training djproxy_policy_training)
  set(DJPROXY_POLICY_TRAINING_SOURCES)
  foreach(src IN LISTS sources)
    list(APPEND DJPROXY_POLICY_TRAINING_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/${src})
  endforeach()
  add_subdirectory(${PROJECT_SOURCE_DIR}/bench/training ${PROJECT_BINARY_DIR}/bench/training)

  # Where each side's object, and so its counts, is: CMake names an object outside the
  # target's source directory by its relative path, each ".." as "__".
  set(train_dir ${PROJECT_BINARY_DIR}/bench/training/CMakeFiles/${training}.dir)
  set(use_dir ${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/${target}.dir)
  file(GLOB traces CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/policy/data/*.jsonl)
  set(copy_counts)
  set(stale_counts)
  foreach(src IN LISTS sources)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR}/bench/training ${CMAKE_CURRENT_SOURCE_DIR}/${src})
    string(REPLACE "../" "__/" rel ${rel})
    list(APPEND stale_counts ${train_dir}/${rel}.gcda)
    list(APPEND copy_counts COMMAND ${CMAKE_COMMAND} -E copy ${train_dir}/${rel}.gcda ${use_dir}/${src}.gcda)
  endforeach()
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/policy_profile.stamp)
  add_custom_command(
    OUTPUT ${stamp}
    # Counts add up from run to run: each training starts from none.
    COMMAND ${CMAKE_COMMAND} -E rm -f ${stale_counts}
    COMMAND ${training} ${traces}
    ${copy_counts}
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS ${training} ${traces}
    COMMENT "Training the policy's profile-guided build"
    VERBATIM)
  add_custom_target(${target}_profile DEPENDS ${stamp})
  add_dependencies(${target} ${target}_profile)
  set_source_files_properties(${sources} PROPERTIES OBJECT_DEPENDS ${stamp})
  # -fprofile-partial-training: code the training never ran stays optimised for speed,
  # not for size (a statement outside the training is not slower than without a profile).
  # -fprofile-correction: a function inlined everywhere in the training build, such as a
  # constexpr hash, has no counts of its own where the real build calls it; GCC would warn
  # of each (an error under -Werror) instead of taking its callers' counts. For the same
  # functions, -Wno-missing-profile; a missing profile file fails the copy above instead.
  target_compile_options(${target} PRIVATE -fprofile-use -fprofile-partial-training -fprofile-correction
                                           -Wno-missing-profile)
endfunction()
