# ctest test_embedding_*: the installed package as an embedder uses it.
#   STEP=install  installs the build into WORK_DIR/prefix and builds examples/reduce_integral
#                 against it with find_package(sailir) (a C and a C++ program);
#   STEP=compare  runs both with --method METHOD on INTEGRALS ("I[...]|I[...]") and checks that
#                 they print exactly the coefficients that sailir-reduce (REDUCE) writes into its
#                 JSON for the same integrals and method.
#
# cmake -DSTEP=install|compare -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=...
#       -DCXX_COMPILER=... -DREDUCE=.../sailir-reduce [-DMETHOD=laporta -DINTEGRALS=...]
#       -P test_embedding.cmake
cmake_minimum_required(VERSION 3.24)
string(REPLACE "|" ";" INTEGRALS "${INTEGRALS}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(example ${WORK_DIR}/example)

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE ${WORK_DIR})
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
  foreach(f include/sailir.h include/sailir.hpp)
    if(NOT EXISTS ${prefix}/${f})
      message(FATAL_ERROR "not installed: ${f}")
    endif()
  endforeach()
  # Only the installed package may be found: no registry, no other prefixes.
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/reduce_integral -B ${example} -G ${GENERATOR}
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
  file(STRINGS ${example}/CMakeCache.txt dir REGEX "^sailir_DIR:")
  string(FIND "${dir}" "${prefix}/" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the example found another sailir package: ${dir}")
  endif()
  run(${CMAKE_COMMAND} --build ${example})
  return()
endif()
if(NOT STEP STREQUAL "compare")
  message(FATAL_ERROR "STEP must be install or compare, not '${STEP}'")
endif()

# Parses the examples' output ("# I[target]", then "I[master] coefficient" lines) into variables
# <var_prefix>_<MD5 of target>: lists master=coefficient, sorted.
function(parse_example text var_prefix)
  string(REPLACE "\n" ";" lines "${text}")
  set(target "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^# (I\\[.*\\])$")
      string(MD5 target "${CMAKE_MATCH_1}")
      set(${var_prefix}_${target} "" PARENT_SCOPE)
      set(acc_${target} "")
    elseif(line MATCHES "^(I\\[[-0-9,]*\\]) ([0-9]+)$")
      list(APPEND acc_${target} "${CMAKE_MATCH_1}=${CMAKE_MATCH_2}")
      set(sorted "${acc_${target}}")
      list(SORT sorted)
      set(${var_prefix}_${target} "${sorted}" PARENT_SCOPE)
    elseif(NOT line MATCHES "^(# prime [0-9]+)?$")
      message(FATAL_ERROR "unexpected example output line: ${line}")
    endif()
  endforeach()
endfunction()

if(NOT METHOD OR NOT INTEGRALS)
  message(FATAL_ERROR "STEP=compare needs METHOD and INTEGRALS")
endif()
run(${REDUCE} --family trianglebox --method ${METHOD} --quiet ${INTEGRALS})
set(json "${out}")
string(JSON prime GET "${json}" prime)
foreach(exe reduce_integral reduce_integral_cpp)
  run(${example}/${exe} --method ${METHOD} ${INTEGRALS})
  if(NOT out MATCHES "^# prime ${prime}\n")
    message(FATAL_ERROR "${exe} --method ${METHOD}: prime differs from sailir-reduce's ${prime}:\n${out}")
  endif()
  parse_example("${out}" got)
  foreach(integral IN LISTS INTEGRALS)
    string(MD5 id "${integral}")
    string(JSON row GET "${json}" reductions "${integral}")
    string(JSON n LENGTH "${row}")
    if(n EQUAL 0 OR NOT DEFINED got_${id})
      message(FATAL_ERROR "${exe} --method ${METHOD}: no coefficients for ${integral}\n${out}")
    endif()
    set(expected "")
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      string(JSON master MEMBER "${row}" ${i})
      string(JSON coef GET "${row}" "${master}")
      list(APPEND expected "${master}=${coef}")
    endforeach()
    list(SORT expected)
    if(NOT "${got_${id}}" STREQUAL "${expected}")
      message(FATAL_ERROR "${exe} --method ${METHOD}: ${integral} differs from sailir-reduce:\n"
                          "  example:       ${got_${id}}\n  sailir-reduce: ${expected}")
    endif()
    message(STATUS "${exe} --method ${METHOD}: ${integral}: ${n} coefficients agree with sailir-reduce")
  endforeach()
endforeach()
