from territory_opt.cli import main

main()
