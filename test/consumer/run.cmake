# Configures, builds and runs test/consumer in WORK_DIR. MODE install: against BUILD_DIR installed
# into WORK_DIR/prefix. MODE subdirectory: with the dynjobs sources in DYNJOBS_SOURCE_DIR added as
# a subdirectory (built with the same compiler launcher and build type as BUILD_DIR).
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
    execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "failed (${rc}): ${ARGV}")
    endif()
endfunction()
if(MODE STREQUAL "install")
    run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
    set(how -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
    set(how -DDYNJOBS_SOURCE_DIR=${DYNJOBS_SOURCE_DIR})
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR} ${how}
    -DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
