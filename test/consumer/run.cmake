# Configures, builds and runs test/consumer in WORK_DIR. MODE install: against BUILD_DIR installed
# into WORK_DIR/prefix. MODE fetchcontent: with the dynjobs sources in DYNJOBS_SOURCE_DIR taken by
# FetchContent and built shared (with the same compiler launcher and build type as BUILD_DIR);
# then the symbols each shared library exports are checked against test/consumer/exported/.
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
if(MODE STREQUAL "fetchcontent")
    file(STRINGS ${WORK_DIR}/build/dynjobs_libraries.txt libraries)
    foreach(library IN LISTS libraries)
        # libdynjobs.so.0.1.0 -> exported/libdynjobs.txt
        string(REGEX REPLACE "\\.so.*$" "" name ${library})
        get_filename_component(name ${name} NAME)
        run(sh ${SOURCE_DIR}/check_exports.sh ${library} ${SOURCE_DIR}/exported/${name}.txt)
    endforeach()
endif()
