# find_package(dynjobs CONFIG [COMPONENTS sim]) for other projects: the library (dynjobs::dynjobs),
# the simulator when built (component sim, dynjobs::sim) and the command when built.
install(DIRECTORY include/dynjobs DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        PATTERN sim EXCLUDE)
if(DYNJOBS_BUILD_SIM)
    install(DIRECTORY include/dynjobs/sim DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dynjobs)
endif()
set(dynjobs_installed_targets dynjobs)
if(DYNJOBS_BUILD_SIM)
    list(APPEND dynjobs_installed_targets dynjobs_sim)
endif()
install(TARGETS ${dynjobs_installed_targets} EXPORT dynjobsTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT dynjobsTargets NAMESPACE dynjobs::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dynjobs)
configure_package_config_file(cmake/dynjobsConfig.cmake.in
        ${CMAKE_CURRENT_BINARY_DIR}/dynjobsConfig.cmake
        INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dynjobs)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/dynjobsConfigVersion.cmake
        COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/dynjobsConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/dynjobsConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dynjobs)
if(DYNJOBS_BUILD_COMMAND)
    install(TARGETS dynjobs_command RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
