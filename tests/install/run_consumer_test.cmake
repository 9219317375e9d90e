# cmake -P script run by CTest (see CMakeLists.txt): install, configure the consumer against the
# prefix, build it, run it, and compare its output with values known in closed form.
foreach(var BUILD_DIR CONFIG WORK_DIR CONSUMER_SOURCE_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer_test.cmake needs -D${var}=...")
  endif()
endforeach()
if(CONFIG STREQUAL "")
  set(CONFIG Debug)
endif()

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${step} failed (${status}):\n${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

# A fresh prefix each run, so nothing from an older install can satisfy find_package.
set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})

run("building the installed targets"
    ${CMAKE_COMMAND} --build ${BUILD_DIR} --config ${CONFIG} --target chainrule_install_prerequisites)
run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --config ${CONFIG} --prefix ${prefix})
if(NOT EXISTS ${prefix}/include/chainrule/engine/engine.hpp)
  message(FATAL_ERROR "the engine headers were not installed under ${prefix}/include")
endif()

run("configuring the consumer"
    ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${consumer_build} -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=${CONFIG} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
    "-DCMAKE_CXX_FLAGS=${CONSUMER_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_FLAGS}")
run("building the consumer" ${CMAKE_COMMAND} --build ${consumer_build} --config ${CONFIG})

find_program(consumer NAMES consumer PATHS ${consumer_build} ${consumer_build}/${CONFIG}
             NO_DEFAULT_PATH NO_CACHE)
if(NOT consumer)
  message(FATAL_ERROR "the consumer executable was not built in ${consumer_build}")
endif()
run("running the consumer" ${consumer})

# f = x^2 e^y at x = 3, y = 1: f = df/dy = 9e and df/dx = 6e (closed forms). To 30 digits, from
# mpmath: 9e = 24.4645364561314071182425872421|7396... rounds up to ...422, and
# 6e = 16.3096909707542714121617248281|1597... rounds down.
set(expected "f = 24.4645364561314071182425872422
df/dx = 16.3096909707542714121617248281
df/dy = 24.4645364561314071182425872422
double df/dx = 16.3096909707543
")
if(NOT last_output STREQUAL expected)
  message(FATAL_ERROR "unexpected consumer output:\n${last_output}\nexpected:\n${expected}")
endif()
message(STATUS "consumer output as expected:\n${last_output}")
