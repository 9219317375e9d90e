# Warning and sanitizer flags for chainrule's own targets only (PRIVATE: consumers never get them).
function(chainrule_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wcast-align -Woverloaded-virtual)
  if(CHAINRULE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(CHAINRULE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # Lets the heaviest tests shrink their sizes: the normal build proves scale, this one memory safety.
  add_compile_definitions(CHAINRULE_SANITIZED_BUILD=1)
endif()
