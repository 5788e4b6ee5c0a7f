RadfmCommand.main()
