from llmcalc.console import main

main()
