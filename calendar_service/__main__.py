from calendar_service.cli import main

main()
