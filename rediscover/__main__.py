from rediscover.cli import main

raise SystemExit(main())
