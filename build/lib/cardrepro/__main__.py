from cardrepro.cli import main

main()
