# Helpers shared by every CMakeLists.txt of the project.

# shop_embed_sql(<target> <dir> <namespace>)
# Compiles every <dir>/NNNN_name.sql into a generated source that defines
# `const std::vector<shop::Migration>& <namespace>::Migrations()`, so a binary
# carries its schema and needs no files at run time. The declaration is the
# generated header "<target>.h".
function(shop_embed_sql target dir namespace)
  file(GLOB sql_files CONFIGURE_DEPENDS "${dir}/*.sql")
  list(SORT sql_files)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}.cc")
  set(header "${CMAKE_CURRENT_BINARY_DIR}/include/${target}.h")
  # Passed as one argument: the list joined with '|' (VERBATIM quotes it).
  string(REPLACE ";" "|" files_arg "${sql_files}")
  add_custom_command(
    OUTPUT "${out}" "${header}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DHEADER=${header} -DHEADER_NAME=${target}.h
            -DNAMESPACE=${namespace} "-DFILES=${files_arg}"
            -P "${PROJECT_SOURCE_DIR}/cmake/EmbedSql.cmake"
    DEPENDS ${sql_files} "${PROJECT_SOURCE_DIR}/cmake/EmbedSql.cmake"
    COMMENT "Embedding SQL migrations for ${target}"
    VERBATIM)
  add_library(${target} STATIC "${out}" "${header}")
  target_include_directories(${target} PUBLIC "${CMAKE_CURRENT_BINARY_DIR}/include")
  target_link_libraries(${target} PUBLIC shop_postgres)
endfunction()

# shop_test(<name> SOURCES ... DEPS ...): one GoogleTest binary, registered
# with ctest test by test.
function(shop_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${T_LABELS}" DISCOVERY_TIMEOUT 30)
endfunction()

# shop_embed_text(<target> <file> <namespace> <function>)
# Generates `absl::string_view <namespace>::<function>()` returning the file's
# text (e.g. a default authorization policy), as a static library <target>,
# declared in the generated header "<target>.h".
function(shop_embed_text target file namespace function)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}.cc")
  set(header "${CMAKE_CURRENT_BINARY_DIR}/include/${target}.h")
  get_filename_component(file_name "${file}" NAME)
  add_custom_command(
    OUTPUT "${out}" "${header}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DHEADER=${header} -DHEADER_NAME=${target}.h
            -DNAMESPACE=${namespace} -DFUNCTION=${function} -DFILE=${file}
            -DFILE_NAME=${file_name} -P "${PROJECT_SOURCE_DIR}/cmake/EmbedText.cmake"
    DEPENDS "${file}" "${PROJECT_SOURCE_DIR}/cmake/EmbedText.cmake"
    COMMENT "Embedding ${file}"
    VERBATIM)
  add_library(${target} STATIC "${out}" "${header}")
  target_include_directories(${target} PUBLIC "${CMAKE_CURRENT_BINARY_DIR}/include")
  target_link_libraries(${target} PUBLIC absl::strings)
endfunction()
