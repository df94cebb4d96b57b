// Process titles as nginx shows them in ps: "lunet: master process ...".
#pragma once

namespace lunet::os {

// Must be called first thing in main(): moves environ out of the way so the
// argv area can be rewritten.
void initProctitle(int argc, char** argv);
// Sets the title to "PROGRAM: TITLE".
void setProctitle(const char* title);
// The original command line, joined with spaces.
const char* originalCommandLine();

}  // namespace lunet::os
