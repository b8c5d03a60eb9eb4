#define _GNU_SOURCE
#include "entry_wrapper.h"

#include <stdio.h>
#include <string.h>

char *pf_entry_wrapper_code(const char *module_function)
{
    const char *colon = strchr(module_function, ':');
    if (colon == NULL)
        return NULL;
    const char *function = colon + 1;
    int module_length = (int)(colon - module_function);
    int import_length = (int)strcspn(function, ".");
    char *code;
    if (asprintf(&code,
                 "import re\n"
                 "import sys\n"
                 "from %.*s import %.*s\n"
                 "if __name__ == \"__main__\":\n"
                 "    sys.argv[0] = re.sub(r\"(-script\\.pyw|\\.exe)?$\", \"\", sys.argv[0])\n"
                 "    sys.exit(%s())\n",
                 module_length, module_function, import_length, function, function) < 0)
        return NULL;
    return code;
}
