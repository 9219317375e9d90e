# What every `chainrule` end-to-end case script needs (included by cli_case.cmake and
# check_case.cmake): the -D variables checked, a fresh WORK_DIR, and the helpers below.
# chainrule(<args>...) runs the binary in WORK_DIR and sets rc, out and err; the expect_*
# functions stop the script with FATAL_ERROR, which ctest reports as a failure.
foreach(var CHAINRULE CASE SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "${CMAKE_SCRIPT_MODE_FILE} needs -D${var}=...")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
find_program(PDFTOTEXT pdftotext)
find_program(PDFLATEX pdflatex)

# chainrule(<args>...): runs the binary in WORK_DIR; sets rc, out, err.
function(chainrule)
  execute_process(COMMAND "${CHAINRULE}" ${ARGN}
                  WORKING_DIRECTORY "${WORK_DIR}"
                  RESULT_VARIABLE code OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
  set(rc "${code}" PARENT_SCOPE)
  set(out "${stdout}" PARENT_SCOPE)
  set(err "${stderr}" PARENT_SCOPE)
endfunction()

function(expect_rc expected)
  if(NOT rc STREQUAL "${expected}")
    message(FATAL_ERROR "expected exit code ${expected}, got ${rc}\nstdout:\n${out}\nstderr:\n${err}")
  endif()
endfunction()

function(expect_contains text needle what)
  string(FIND "${text}" "${needle}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${what} lacks '${needle}':\n${text}")
  endif()
endfunction()

function(expect_file path)
  if(NOT EXISTS "${WORK_DIR}/${path}")
    message(FATAL_ERROR "${path} was not written")
  endif()
  file(SIZE "${WORK_DIR}/${path}" size)
  if(size EQUAL 0)
    message(FATAL_ERROR "${path} is empty")
  endif()
endfunction()

function(expect_no_file path)
  if(EXISTS "${WORK_DIR}/${path}")
    message(FATAL_ERROR "${path} should not exist")
  endif()
endfunction()

function(expect_file_content path expected)
  file(READ "${WORK_DIR}/${path}" content)
  if(NOT content STREQUAL "${expected}")
    message(FATAL_ERROR "${path} changed: '${content}' instead of '${expected}'")
  endif()
endfunction()

# No temporary files (.name.random.tmp) may be left behind.
function(expect_no_temporaries)
  file(GLOB leftovers "${WORK_DIR}/.*.tmp")
  if(leftovers)
    message(FATAL_ERROR "temporary files left behind: ${leftovers}")
  endif()
endfunction()

function(pdf_text path result)
  execute_process(COMMAND "${PDFTOTEXT}" "${WORK_DIR}/${path}" -
                  RESULT_VARIABLE code OUTPUT_VARIABLE text)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "pdftotext failed on ${path}")
  endif()
  # Where LaTeX breaks lines depends on the text around (the model's path is in the header),
  # so a needle is matched against the words only: hyphenated breaks joined, spacing collapsed.
  string(REGEX REPLACE "([a-z])-\n([a-z])" "\\1\\2" text "${text}")
  string(REGEX REPLACE "[ \t\r\n]+" " " text "${text}")
  set(${result} "${text}" PARENT_SCOPE)
endfunction()
