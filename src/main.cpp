// SPDX-License-Identifier: MIT
// ssecast entry point: argv → Config → App (see app/cli.cpp).
#include "app/cli.hpp"

int main(int argc, char** argv, char** envp) {
    return ssecast::app::run_cli(argc, argv, envp);
}
