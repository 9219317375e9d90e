# One end-to-end case of `chainrule check`, run as
#   cmake -DCHAINRULE=<binary> -DCASE=<name> -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -P check_case.cmake
# Expected numbers: tests/check/data/seed_slides_1.txt is checked in tests/check/check.test.cpp
# (its two typos, 23 marks out of 25); here the command's exit codes, streams and files.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/case_support.cmake)
set(mazur "${SOURCE_DIR}/examples/mazur.chain")
set(slides "${SOURCE_DIR}/tests/check/data/seed_slides_1.txt")

if(CASE STREQUAL "check_report")
  # Wrong answers are a result, not a failure: exit 0, the report on stdout, nothing on stderr.
  chainrule(check "${mazur}" "${slides}")
  expect_rc(0)
  expect_contains("${out}" "dout_h1/dnet_h1   0.241800709   0.241300709   wrong here" "stdout")
  expect_contains("${out}" "Score: 23/25 = 92%" "stdout")
  if(NOT err STREQUAL "")
    message(FATAL_ERROR "stderr should be empty:\n${err}")
  endif()
  set(first "${out}")
  chainrule(check "${mazur}" "${slides}")
  if(NOT out STREQUAL first)
    message(FATAL_ERROR "two runs differ")
  endif()

elseif(CASE STREQUAL "check_files")
  chainrule(check "${mazur}" "${slides}" --json report.json --latex feedback.tex)
  expect_rc(0)
  file(READ "${WORK_DIR}/report.json" json)
  expect_contains("${json}" "\"marks\": 23" "report.json")
  expect_contains("${json}" "\"verdict\": \"wrong\"" "report.json")
  file(READ "${WORK_DIR}/feedback.tex" tex)
  expect_contains("${tex}" "\\begin{longtable}" "feedback.tex")
  expect_contains("${tex}" "\\textbf{Score: 23/25}" "feedback.tex")
  # The answers file is an input: never replaced.
  chainrule(check "${mazur}" "${slides}" --json "${slides}")
  expect_rc(2)

elseif(CASE STREQUAL "check_pdf")
  # pdflatex takes seconds: a case of its own, labelled slow.
  if(PDFLATEX AND PDFTOTEXT)
    chainrule(check "${mazur}" "${slides}" --pdf feedback.pdf)
    expect_rc(0)
    execute_process(COMMAND "${PDFTOTEXT}" "${WORK_DIR}/feedback.pdf" -
                    RESULT_VARIABLE code OUTPUT_VARIABLE text)
    expect_contains("${text}" "Score: 23/25" "feedback.pdf")
    expect_contains("${text}" "0.241800709" "feedback.pdf")
  endif()

elseif(CASE STREQUAL "check_errors")
  file(WRITE "${WORK_DIR}/bad.txt" "out_h1 = 0.5933\nout_o1 = 75.14%\nout_hl = 0.5\n")
  chainrule(check "${mazur}" bad.txt)
  expect_rc(1)
  expect_contains("${err}" "bad.txt:2:10: error: '75.14%' is a percentage" "stderr")
  file(WRITE "${WORK_DIR}/unknown.txt" "out_h1 = 0.5933\nout_hl = 0.5\n")
  chainrule(check "${mazur}" unknown.txt)
  expect_rc(1)
  expect_contains("${err}" "unknown.txt:2:1: error: unknown name 'out_hl'" "stderr")
  expect_contains("${err}" "did you mean 'out_h1'?" "stderr")
  chainrule(check "${mazur}" missing.txt)
  expect_rc(2)
  chainrule(check "${mazur}")
  expect_rc(2)

else()
  message(FATAL_ERROR "unknown case ${CASE}")
endif()
