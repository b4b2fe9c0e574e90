#include "App.h"

int main(int argc, char** argv) { return peerchat::chatui::App::main(argc, argv); }
