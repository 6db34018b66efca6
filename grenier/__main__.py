from grenier.cli import main

main()
