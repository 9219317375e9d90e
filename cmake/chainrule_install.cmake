# `cmake --install` puts the libraries, headers and a CMake package config in place so that another
# project can `find_package(chainrule)` and link `chainrule::engine` (and the other parts).
include(CMakePackageConfigHelpers)

set(chainrule_install_targets chainrule_engine)
foreach(part trace exporters lang)
  if(TARGET chainrule_${part})
    list(APPEND chainrule_install_targets chainrule_${part})
  endif()
endforeach()

install(TARGETS ${chainrule_install_targets}
        EXPORT chainrule-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT chainrule-targets
        NAMESPACE chainrule::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/chainrule)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/chainruleConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/chainruleConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/chainrule)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/chainruleConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/chainruleConfig.cmake ${PROJECT_BINARY_DIR}/chainruleConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/chainrule)

# tests/install builds exactly what is installed before it runs `cmake --install`: the libraries
# above and the command-line tool, which cli/ installs itself.
if(TARGET chainrule_install_prerequisites)
  add_dependencies(chainrule_install_prerequisites ${chainrule_install_targets})
  if(TARGET chainrule)
    add_dependencies(chainrule_install_prerequisites chainrule)
  endif()
endif()
