# One end-to-end case of the chainrule command, run as
#   cmake -DCHAINRULE=<binary> -DCASE=<name> -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -P cli_case.cmake
# A failed check stops with FATAL_ERROR, which ctest reports as a failure.
cmake_minimum_required(VERSION 3.25)

include(${CMAKE_CURRENT_LIST_DIR}/case_support.cmake)
set(mazur "${SOURCE_DIR}/examples/mazur.chain")

if(CASE STREQUAL "run_mazur")
  chainrule(run "${mazur}")
  expect_rc(0)
  foreach(needle
      "net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775"
      "E_total = E_o1 + E_o2 = 0.274811083 + 0.023560026 = 0.298371109"
      "dE_total/dw5 = 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041"
      "w5+ = w5 - eta*dE_total/dw5 = 0.4 - 0.5*0.082167041 = 0.35891648"
      "w1+ = w1 - eta*dE_total/dw1 = 0.15 - 0.5*0.000438568 = 0.149780716"
      "Error after update 1: E_total = 0.291027774 (before: 0.298371109)")
    expect_contains("${out}" "${needle}" "chainrule run output")
  endforeach()
  if(NOT err STREQUAL "")
    message(FATAL_ERROR "unexpected stderr: ${err}")
  endif()

elseif(CASE STREQUAL "run_precision")
  chainrule(run "${mazur}" --precision 100 --digits 60)
  expect_rc(0)
  # mpmath's value (tests/reference/mazur.ref) to 60 significant digits.
  string(CONCAT expected "Error after update 1: E_total = "
         "0.291027773693599350871854681390320924785494138587664662271397 (before: "
         "0.298371108760002688607381947666064020977459990940463160928589)")
  expect_contains("${out}" "${expected}" "100-digit run")
  expect_contains("${out}" "Precision:  100 digits; numbers shown rounded to 60 significant digits"
                  "100-digit run")
  chainrule(run "${mazur}" --precision double --decimals 4)
  expect_rc(0)
  expect_contains("${out}" "E_total = E_o1 + E_o2 = 0.2748 + 0.0236 = 0.2984" "double run")
  expect_contains("${out}" "Precision:  double" "double run")

elseif(CASE STREQUAL "certify")
  # --certify (docs/certify.md): numbers double precision gets wrong, the report on stderr, the
  # "…" of digits that cannot be certified through to the PDF.
  set(data "${SOURCE_DIR}/tests/certify/data")
  # No number is shown with more significant digits than the precision computes. exp(2*10^6) =
  # 9.200395643397245398035182681176318488391639806899428181e+868588 (mpmath at 80 digits), so at
  # 50 digits ...06899428... rounds to ...068994; at 9 decimals it used to print 868,589 digits.
  chainrule(run "${data}/huge.chain")
  expect_rc(0)
  expect_contains("${out}" "E = exp(w*x) = exp(2*1000000) = 9.2003956433972453980351826811763184883916398068994e+868588\n" "huge run")
  string(LENGTH "${out}" huge_length)
  if(huge_length GREATER 5000)
    message(FATAL_ERROR "huge.chain printed ${huge_length} characters")
  endif()
  chainrule(run "${data}/huge.chain" --certify)
  expect_rc(0)
  expect_contains("${out}" "Certified:  every number shown agrees between runs at 50 significant digits and 100 significant digits" "huge run certified")
  expect_contains("${out}" "= 9.2003956433972453980351826811763184883916398068994e+868588\n" "huge run certified")
  # 3e20 in 10 digits is 299999999999308988416; shown to its 10 significant digits it is 3e20
  # again, and E = 0.1*(3e20)^2 = 9e39.
  chainrule(run "${data}/large_given.chain")
  expect_rc(0)
  expect_contains("${out}" "  x  input      300000000000000000000\n" "large given value")
  expect_contains("${out}" "E = w*x*x = 0.1*300000000000000000000*300000000000000000000 = 9e+39\n" "large given value")
  chainrule(run "${data}/cancellation.chain")
  expect_rc(0)
  expect_contains("${out}" "2*0.1*100000000 = -2" "double run")
  chainrule(run "${data}/cancellation.chain" --certify)
  expect_rc(0)
  # E = a^2 = 0.01 and dE/da = 2a = 0.2, by hand.
  expect_contains("${out}" "2*0.1*100000000 = 0.01" "certified run")
  expect_contains("${out}" "2*(100000000 + 0.1) = 0.2\n" "certified run")
  expect_contains("${out}" "Certified:  every number shown agrees between runs at 34 significant digits and 68 significant digits" "certified run")
  expect_contains("${err}" "the model's double precision alone shows" "certified run's report")
  expect_contains("${err}" "0.01 and -2" "certified run's report")
  # 0.05 + 0.1 = 0.15 is a tie at one decimal that no binary run can settle.
  chainrule(render "${data}/tie.chain" --certify --pdf tie.pdf --latex tie.tex)
  expect_rc(0)
  expect_contains("${out}" "wrote tie.pdf" "render --certify")
  file(READ "${WORK_DIR}/tie.tex" tex)
  expect_contains("${tex}" "= 0.1\\ldots" "tie.tex")
  if(PDFTOTEXT)
    pdf_text(tie.pdf text)
    expect_contains("${text}" "Certified: runs at 544 significant digits and 1000" "tie.pdf")
  endif()
  chainrule(run "${SOURCE_DIR}/examples/mazur.chain" --certify --certify-max-digits 50)
  expect_rc(2)
  expect_contains("${err}" "--certify-max-digits 50: expected more than the model's 50 significant digits" "limit error")
  chainrule(run "${SOURCE_DIR}/examples/mazur.chain" --certify-max-digits 5)
  expect_rc(2)

elseif(CASE STREQUAL "run_show")
  # `show` lines (docs/language.md): the simplified form of the seed slides and Mazur's published
  # dE_total/dw5 = 0.082167041; the second derivative is mpmath's (tests/reference/show.ref,
  # -6.04309310403552e-6), rounded to the file's 9 decimals.
  set(derivatives "${SOURCE_DIR}/examples/mazur_derivatives.chain")
  chainrule(run "${derivatives}")
  expect_rc(0)
  expect_contains("${out}" "Derivatives (at the initial parameters)" "show run")
  expect_contains("${out}"
                  "  d(E_total)/d(w5) = -(t1 - out_o1)*out_o1*(1 - out_o1)*out_h1 = 0.082167041\n"
                  "show run")
  expect_contains("${out}" "  d(E_total)/d(out_o1) = -(t1 - out_o1) = 0.74136507\n" "show run")
  expect_contains("${out}" "= -0.000006043\n" "show run")
  expect_contains("${out}" "  d2(E_total)/d(w1)d(w2) =" "show run")
  expect_contains("${out}" "  d2(E_total)/d(w1)^2 =" "show run")
  set(first "${out}")
  # A derivative too large to show is a located model error; the first line's fit the limit.
  chainrule(run "${derivatives}" --max-shown-size 50)
  expect_rc(1)
  expect_contains("${err}" "mazur_derivatives.chain:24:6: error: cannot show d2(E_total)/d(w1)d(w2): written out" "show limit")
  expect_contains("${err}" "more than the 50 allowed" "show limit")
  expect_contains("${err}" "--max-shown-size raises the limit" "show limit")
  if(NOT out STREQUAL "")
    message(FATAL_ERROR "a refused show printed a worked example:\n${out}")
  endif()
  chainrule(run "${derivatives}" --precision double)
  expect_rc(0)
  expect_contains("${out}"
                  "  d(E_total)/d(w5) = -(t1 - out_o1)*out_o1*(1 - out_o1)*out_h1 = 0.082167041\n"
                  "show run in double")
  chainrule(run "${derivatives}")
  if(NOT out STREQUAL first)
    message(FATAL_ERROR "two runs of ${derivatives} differ")
  endif()
  # The worked example before the derivatives is Mazur's own, unchanged (from the "Model:" line
  # on: the titles differ).
  chainrule(run "${mazur}")
  string(FIND "${first}" "\nDerivatives" cut)
  string(SUBSTRING "${first}" 0 ${cut} before)
  string(FIND "${before}" "\nModel:" from)
  string(SUBSTRING "${before}" ${from} -1 before)
  string(FIND "${out}" "\nModel:" from)
  string(SUBSTRING "${out}" ${from} -1 plain)
  string(REPLACE "mazur_derivatives.chain" "mazur.chain" before "${before}")
  if(NOT before STREQUAL plain)
    message(FATAL_ERROR "the worked example changed with show lines:\n${before}\n---\n${plain}")
  endif()

elseif(CASE STREQUAL "run_examples")
  file(GLOB examples "${SOURCE_DIR}/examples/*.chain")
  list(LENGTH examples n)
  if(n LESS 3)
    message(FATAL_ERROR "expected the example models in ${SOURCE_DIR}/examples, found ${n}")
  endif()
  foreach(example ${examples})
    chainrule(run "${example}")
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "chainrule run ${example} failed (${rc}):\n${err}")
    endif()
  endforeach()

elseif(CASE STREQUAL "run_progress")
  chainrule(run "${mazur}")
  set(plain "${out}")
  chainrule(run "${mazur}" --progress)
  expect_rc(0)
  if(NOT out STREQUAL plain)
    message(FATAL_ERROR "--progress changed stdout")
  endif()
  # Not a terminal under ctest: one line per report. The loss of Mazur's one update is the
  # published E_total before it.
  if(NOT err STREQUAL "training: update 1 of 1, loss 0.298371109\n")
    message(FATAL_ERROR "unexpected progress display: '${err}'")
  endif()
  # 2000 epochs of 4 rows: 8000 updates, reported every 80th.
  chainrule(run "${SOURCE_DIR}/examples/xor.chain" --progress)
  expect_rc(0)
  string(REGEX MATCHALL "training: update [0-9]+ of 8000, loss [0-9.]+\n" reports "${err}")
  list(LENGTH reports count)
  if(NOT count EQUAL 100)
    message(FATAL_ERROR "expected 100 progress reports, got ${count}:\n${err}")
  endif()
  expect_contains("${err}" "training: update 8000 of 8000, loss" "progress display")
  # Early stopping after update 96 of 6000 (reports every 60th): the last report is update 96.
  chainrule(run "${SOURCE_DIR}/examples/early_stopping.chain" --progress)
  expect_rc(0)
  string(REGEX MATCH "training: update [0-9]+ of 6000, loss [0-9.]+\n$" last "${err}")
  expect_contains("${last}" "training: update 96 of 6000, loss" "early-stopping progress")

elseif(CASE STREQUAL "render_outputs")
  chainrule(render "${mazur}" --latex m.tex --pdf m.pdf --dot m.dot --svg m.svg --png m.png
            --pdf-graph graph.pdf --json m.json --highlight w1 --notation mazur)
  expect_rc(0)
  foreach(f m.tex m.pdf m.dot m.svg m.png graph.pdf m.json)
    expect_file(${f})
    expect_contains("${out}" "wrote ${f}" "render's report")
  endforeach()
  expect_no_temporaries()
  file(READ "${WORK_DIR}/m.tex" tex)
  expect_contains("${tex}" "\\documentclass" "m.tex")
  expect_contains("${tex}" "w_{5}^{+} &= w_{5} - \\eta" "m.tex")
  file(READ "${WORK_DIR}/m.pdf" pdf LIMIT 5)
  expect_contains("${pdf}" "%PDF-" "m.pdf")
  file(READ "${WORK_DIR}/m.svg" svg)
  expect_contains("${svg}" "<svg" "m.svg")
  file(READ "${WORK_DIR}/m.json" json)
  expect_contains("${json}" "\"schema_version\"" "m.json")
  if(PDFTOTEXT)
    pdf_text(m.pdf text)
    foreach(n 0.298371109 0.082167041 0.35891648 0.149780716 0.291027774)
      expect_contains("${text}" "${n}" "the PDF's text")
    endforeach()
  endif()

elseif(CASE STREQUAL "render_fragment")
  chainrule(render "${mazur}" --latex part.tex --fragment --notation layered)
  expect_rc(0)
  file(READ "${WORK_DIR}/part.tex" tex)
  string(FIND "${tex}" "\\documentclass" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "a fragment must not have a preamble")
  endif()
  expect_contains("${tex}" "z^{(1)}_{1} &= w^{(1)}_{11} \\cdot x_{1}" "part.tex")
  if(PDFLATEX)
    file(WRITE "${WORK_DIR}/slides.tex"
         "\\documentclass{beamer}\n\\begin{document}\n"
         "\\begin{frame}[allowframebreaks]{Backpropagation}\n\\input{part}\n\\end{frame}\n"
         "\\end{document}\n")
    execute_process(COMMAND "${PDFLATEX}" -no-shell-escape -halt-on-error
                            -interaction=nonstopmode slides.tex
                    WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE code OUTPUT_VARIABLE log)
    if(NOT code EQUAL 0)
      message(FATAL_ERROR "the fragment does not compile in Beamer:\n${log}")
    endif()
    chainrule(render "${mazur}" --latex frames.tex --beamer)
    expect_rc(0)
    file(WRITE "${WORK_DIR}/deck.tex"
         "\\documentclass{beamer}\n\\begin{document}\n\\input{frames}\n\\end{document}\n")
    execute_process(COMMAND "${PDFLATEX}" -no-shell-escape -halt-on-error
                            -interaction=nonstopmode deck.tex
                    WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE code OUTPUT_VARIABLE log)
    if(NOT code EQUAL 0)
      message(FATAL_ERROR "the --beamer frames do not compile:\n${log}")
    endif()
  else()
    message(WARNING "SKIP: pdflatex is not on PATH; the fragment was not compiled")
  endif()
  chainrule(render "${mazur}" --latex x.tex --beamer --fragment)
  expect_rc(2)

elseif(CASE STREQUAL "render_deterministic")
  chainrule(render "${mazur}" --latex a.tex --pdf a.pdf --svg a.svg --json a.json)
  expect_rc(0)
  chainrule(render "${mazur}" --latex b.tex --pdf b.pdf --svg b.svg --json b.json)
  expect_rc(0)
  foreach(ext tex pdf svg json)
    file(SHA256 "${WORK_DIR}/a.${ext}" a)
    file(SHA256 "${WORK_DIR}/b.${ext}" b)
    if(NOT a STREQUAL b)
      message(FATAL_ERROR "two renders of the same model differ in the .${ext} output")
    endif()
  endforeach()

elseif(CASE STREQUAL "model_error")
  file(WRITE "${WORK_DIR}/bad.chain"
       "input x = 1\nparam w = 2\ny = w*q\ntrain minimize y using sgd for 1 step\n")
  chainrule(run bad.chain)
  expect_rc(1)
  expect_contains("${err}" "bad.chain:3:7: error: unknown name 'q'" "stderr")
  chainrule(render bad.chain --latex out.tex)
  expect_rc(1)
  expect_no_file(out.tex)
  file(WRITE "${WORK_DIR}/domain.chain"
       "input x = -1\ny = log(x)\ndifferentiate y\n")
  chainrule(run domain.chain)
  expect_rc(1)
  expect_contains("${err}" "domain.chain:2:" "stderr")

elseif(CASE STREQUAL "symbol_error")
  file(READ "${mazur}" model)
  file(WRITE "${WORK_DIR}/evil.chain" "${model}\nsymbol w1 = \"\\input{/etc/passwd}\"\n")
  chainrule(render evil.chain --latex out.tex --pdf out.pdf)
  expect_rc(1)
  expect_contains("${err}" "evil.chain:" "stderr")
  expect_contains("${err}" ": error: symbol for 'w1' uses \\input, which can read or write files"
                  "stderr")
  expect_no_file(out.tex)
  expect_no_file(out.pdf)
  file(WRITE "${WORK_DIR}/braces.chain" "${model}\nsymbol w2 = \"w_{2\"\n")
  chainrule(run braces.chain)
  expect_rc(1)
  expect_contains("${err}" "error: symbol for 'w2' has 1 '{' without a matching '}'" "stderr")
  file(WRITE "${WORK_DIR}/good.chain" "${model}\nsymbol w5 = \"\\omega_{5}\"\n")
  chainrule(render good.chain --latex good.tex)
  expect_rc(0)
  file(READ "${WORK_DIR}/good.tex" tex)
  expect_contains("${tex}" "\\omega_{5}^{+} &= \\omega_{5} - \\eta" "good.tex")

elseif(CASE STREQUAL "usage_errors")
  # Arguments separated by '|' (a ';' would split the list).
  set(cases
      "run"                                            "FILE is required"
      "run|${mazur}|--bogus"                           "--bogus"
      "run|missing.chain"                              "File does not exist"
      "run|${mazur}|--precision|5"                     "expected 'double' or a number"
      "run|${mazur}|--decimals|3|--digits|4"           "excludes"
      "render|${mazur}"                                "nothing to write"
      "render|${mazur}|--fragment"                     "--latex"
      "render|${mazur}|--latex|x.tex|--notation|fancy" "fancy"
      "render|${mazur}|--latex|x.tex|--highlight|w1"   "--highlight draws on the graph"
      "render|${mazur}|--svg|x.svg|--highlight|nosuch" "nosuch"
      "frobnicate"                                     "frobnicate"
      "--version-typo"                                 "--version-typo")
  list(LENGTH cases n)
  math(EXPR last "${n} - 1")
  foreach(i RANGE 0 ${last} 2)
    math(EXPR j "${i} + 1")
    list(GET cases ${i} packed)
    list(GET cases ${j} message)
    string(REPLACE "|" ";" args "${packed}")
    string(REPLACE "|" " " shown "${packed}")
    chainrule(${args})
    if(NOT rc EQUAL 2)
      message(FATAL_ERROR "chainrule ${shown}: expected exit code 2, got ${rc}\n${err}")
    endif()
    expect_contains("${err}" "${message}" "stderr of 'chainrule ${shown}'")
    expect_contains("${err}" "chainrule: error: " "stderr of 'chainrule ${shown}'")
  endforeach()
  chainrule()
  expect_rc(2)
  expect_contains("${err}" "subcommand is required" "stderr of 'chainrule'")
  expect_no_file(x.tex)
  expect_no_file(x.svg)

elseif(CASE STREQUAL "refuse_input")
  file(COPY "${mazur}" DESTINATION "${WORK_DIR}")
  file(READ "${WORK_DIR}/mazur.chain" before)
  foreach(target mazur.chain ./mazur.chain ../${CASE}/mazur.chain)
    chainrule(render mazur.chain --latex ${target})
    expect_rc(2)
    expect_contains("${err}" "refusing to write" "stderr")
  endforeach()
  file(CREATE_LINK mazur.chain "${WORK_DIR}/link.tex" SYMBOLIC)
  chainrule(render mazur.chain --pdf link.tex)
  expect_rc(2)
  expect_contains("${err}" "it is the input file" "stderr")
  chainrule(render mazur.chain --latex out.tex --json out.tex)
  expect_rc(2)
  expect_contains("${err}" "requested as two different outputs" "stderr")
  expect_file_content(mazur.chain "${before}")
  expect_no_file(out.tex)
  expect_no_temporaries()

elseif(CASE STREQUAL "failed_run_keeps_outputs")
  file(WRITE "${WORK_DIR}/out.tex" "OLD TEX")
  file(WRITE "${WORK_DIR}/out.json" "OLD JSON")
  # pdflatex cannot be found, so the PDF step fails after the LaTeX and JSON were made.
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env PATH=/nonexistent
                          "${CHAINRULE}" render "${mazur}" --latex out.tex --json out.json
                          --pdf out.pdf
                  WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc ERROR_VARIABLE err)
  expect_rc(1)
  expect_contains("${err}" "pdflatex was not found on PATH" "stderr")
  expect_file_content(out.tex "OLD TEX")
  expect_file_content(out.json "OLD JSON")
  expect_no_file(out.pdf)
  expect_no_temporaries()
  # A model error changes nothing either.
  file(WRITE "${WORK_DIR}/bad.chain" "input x = 1\ny = x +\ndifferentiate y\n")
  chainrule(render bad.chain --latex out.tex)
  expect_rc(1)
  expect_file_content(out.tex "OLD TEX")
  # And a successful run replaces them.
  chainrule(render "${mazur}" --latex out.tex --json out.json)
  expect_rc(0)
  file(READ "${WORK_DIR}/out.tex" tex)
  expect_contains("${tex}" "\\documentclass" "out.tex")

elseif(CASE STREQUAL "help_and_version")
  chainrule(--version)
  expect_rc(0)
  expect_contains("${out}" "chainrule " "--version")
  chainrule(--help)
  expect_rc(0)
  foreach(needle "run" "render" "Exit codes: 0 success, 1" "2 the command line is wrong")
    expect_contains("${out}" "${needle}" "--help")
  endforeach()
  chainrule(run --help)
  expect_rc(0)
  foreach(needle "FILE" "--precision" "--decimals" "--digits" "--width")
    expect_contains("${out}" "${needle}" "run --help")
  endforeach()
  chainrule(render --help)
  expect_rc(0)
  foreach(needle "--latex" "--fragment" "--beamer" "--notation" "--pdf" "--dot" "--svg" "--png"
                 "--pdf-graph" "--json" "--highlight")
    expect_contains("${out}" "${needle}" "render --help")
  endforeach()

else()
  message(FATAL_ERROR "unknown case '${CASE}'")
endif()
