# `chainrule derive` end to end on examples/mazur.chain (cmake -P, like cli_case.cmake).
#
# Expected forms: Mazur's worked example as copied in the seed slides
# (/work/shared/seeds/000_7fe630688954c1cb.txt, lines 476-482): dE_total/d out_o1 =
# -(target_o1 - out_o1) = 0.74136507, d net_o1/d w5 = out_h1, dE_total/dw5 = 0.082167041.
# The second derivative d2(E_total)/d(w1)d(w2) = -6.0430931040355212748e-6 is mpmath's
# mp.diff(E, (w1, w2), (1, 1)) at mp.dps = 50 on the same network (rounded to the model's
# 9 decimals: -0.000006043).
foreach(var CHAINRULE SOURCE_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "derive_case.cmake needs -D${var}=...")
  endif()
endforeach()
set(model ${SOURCE_DIR}/examples/mazur.chain)

function(expect_output expected)
  execute_process(COMMAND ${CHAINRULE} derive ${model} ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "derive ${ARGN}: exit ${rc}\n${err}")
  endif()
  if(NOT out STREQUAL expected)
    message(FATAL_ERROR "derive ${ARGN}:\nexpected:\n${expected}\ngot:\n${out}")
  endif()
endfunction()

expect_output("d(E_total)/d(out_o1) = -(t1 - out_o1)\n                     = 0.74136507\n" E_total out_o1)
expect_output("d(net_o1)/d(w5) = out_h1\n                = 0.593269992\n" net_o1 w5)
expect_output("d(E_total)/d(w5) = -(t1 - out_o1)*out_o1*(1 - out_o1)*out_h1\n                 = 0.082167041\n"
              E_total w5)
expect_output("\\frac{\\partial E_{total}}{\\partial w_{5}} = -\\left(t_{1} - out_{o1}\\right) \\cdot out_{o1} \\cdot \\left(1 - out_{o1}\\right) \\cdot out_{h1} = 0.082167041\n"
              E_total w5 --form latex)
expect_output("/* d(E_total)/d(w5) = 0.082167041 */\n-(t1 - out_o1)*out_o1*(1.0 - out_o1)*out_h1\n"
              E_total w5 --form c)

# The second derivative: only its value line is compared (the expression is long).
execute_process(COMMAND ${CHAINRULE} derive ${model} E_total w1 w2
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\n +=  *-0\\.000006043\n$" OR NOT out MATCHES "^d2\\(E_total\\)/d\\(w1\\)d\\(w2\\) = ")
  message(FATAL_ERROR "derive E_total w1 w2: exit ${rc}\n${out}${err}")
endif()

# A repeated variable is written as a power, as `show` takes it; d2(E_total)/d(w1)^2 =
# -3.0215465520177606374e-6 is i1^2 d2E/dnet_h1^2 from tests/reference/show.ref (mpmath).
execute_process(COMMAND ${CHAINRULE} derive ${model} E_total w1 w1
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\n +=  *-0\\.000003022\n$" OR NOT out MATCHES "^d2\\(E_total\\)/d\\(w1\\)\\^2 = ")
  message(FATAL_ERROR "derive E_total w1 w1: exit ${rc}\n${out}${err}")
endif()
execute_process(COMMAND ${CHAINRULE} derive ${model} E_total w1 w1 w2 --form latex
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(FIND "${out}" "\\frac{\\partial^{3} E_{total}}{\\partial w_{1}^{2}\\,\\partial w_{2}} = " at)
if(NOT rc EQUAL 0 OR NOT at EQUAL 0)
  message(FATAL_ERROR "derive E_total w1 w1 w2 --form latex: exit ${rc}\n${out}${err}")
endif()

# A derivative too large to print is refused before printing: exit 1, the limit, the way out.
execute_process(COMMAND ${CHAINRULE} derive ${model} E_total w1 w1 w1 w1 --max-shown-size 100
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT out STREQUAL "" OR NOT err MATCHES "d4\\(E_total\\)/d\\(w1\\)\\^4, written out, has [0-9]+ numbers, names and operations, more than the 100 allowed"
   OR NOT err MATCHES "--max-shown-size")
  message(FATAL_ERROR "derive over --max-shown-size: expected exit 1 and the limit, got ${rc}\n${out}${err}")
endif()

# A name the model does not have: exit 1, the name, and the names it does have.
execute_process(COMMAND ${CHAINRULE} derive ${model} E_total w9
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "has no quantity 'w9'" OR NOT err MATCHES "w5, w6")
  message(FATAL_ERROR "derive E_total w9: expected exit 1 naming w9 and the quantities, got ${rc}\n${err}")
endif()
# No quantity to differentiate by: a command-line error, exit 2.
execute_process(COMMAND ${CHAINRULE} derive ${model} E_total
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "WRT")
  message(FATAL_ERROR "derive without WRT: expected exit 2 mentioning WRT, got ${rc}\n${err}")
endif()
