from bastide.cli import main

main()
